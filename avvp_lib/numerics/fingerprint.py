"""The weights fingerprint: a hash of HAN's weights after a tiny fixed CPU training (``python -m avvp_lib.numerics --fingerprint``)."""
from __future__ import annotations


def weights_fingerprint(epochs: int = 2, seed: int = 0) -> str:
    """SHA-256 (16 hex digits) of HAN's weights after a tiny fixed training on CPU.

    The data are drawn from torch's own CPU generator (no files, no NumPy), 64 train and 32 val videos;
    HAN at width 32 with the quick recipe for ``epochs`` epochs, one thread. Same kernels -> same hash.
    """
    import hashlib

    import torch

    from avvp_lib.data.dataset import AVVPData
    from avvp_lib.methods.mmil import HANMethod, train_config
    from avvp_lib.train import fit

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1234)

    def split(name: str, n: int) -> AVVPData:
        labels = (torch.rand(n, 25, generator=gen) < 0.12).float()
        gt = (torch.rand(n, 10, 25, generator=gen) < 0.3).float() * labels[:, None]
        tensors = {"audio": torch.randn(n, 10, 128, generator=gen) + 2 * gt @ torch.randn(25, 128, generator=gen),
                   "visual_2d": torch.randn(n, 10, 2048, generator=gen), "visual_3d": torch.randn(n, 10, 512, generator=gen),
                   "labels": labels, "index": torch.arange(n)}
        return AVVPData(name, [f"v{i}" for i in range(n)], [f"v{i}" for i in range(n)], tensors, gt, gt.clone(),
                        "synthetic")

    train, val = split("train", 64), split("val", 32)
    config = train_config("quick", seed=seed, device="cpu").replace(epochs=epochs, step_size=1)
    torch.manual_seed(seed)
    method = HANMethod(d_model=32, ffn_dim=32)
    fit(method, train, val, config, progress=False)
    digest = hashlib.sha256()
    for name, tensor in method.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
