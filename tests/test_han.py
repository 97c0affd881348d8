"""Tests for avvp_lib.models.han against hand-worked values and the official oracle."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from avvp_lib.models import HAN, MMILOutput, attentive_mmil_pooling

_ORACLE_PATH = Path(__file__).parent / "reference" / "official_han.py"
_spec = importlib.util.spec_from_file_location("official_han_oracle", _ORACLE_PATH)
official_han = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(official_han)

UNUSED_PREFIXES = ("audio_encoder.", "visual_encoder.", "cmt_encoder.", "hat_encoder.norm1.", "hat_encoder.norm2.")


def _inputs(batch=3, t=10, frames=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, t, 128, generator=g),
        torch.randn(batch, t * frames, 2048, generator=g),
        torch.randn(batch, t, 512, generator=g),
    )


def _random_oracle(seed=0):
    """Official MMIL_Net with every parameter perturbed (LayerNorm/bias inits are trivial).

    The noise is small (0.02) on purpose: much larger weights saturate the attention
    softmax and float32 rounding differences between two correct implementations
    then grow past 1e-5.
    """
    torch.manual_seed(seed)
    net = official_han.MMIL_Net()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return net.eval()


@pytest.fixture(scope="module")
def oracle():
    return _random_oracle()


@pytest.fixture(scope="module")
def oracle_out(oracle):
    with torch.no_grad():
        return oracle(*_inputs())


def _assert_matches(out: MMILOutput, ref, atol=1e-5):
    for name, mine, theirs in zip(MMILOutput._fields, out, ref):
        assert mine.shape == theirs.shape, name
        torch.testing.assert_close(mine, theirs, atol=atol, rtol=0, msg=f"{name} differs")


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize("frames", [8, 1])
def test_output_shapes_and_range(frames):
    torch.manual_seed(0)
    model = HAN().eval()
    with torch.no_grad():
        out = model(*_inputs(batch=2, frames=frames))
    assert isinstance(out, MMILOutput)
    assert out.video.shape == out.audio.shape == out.visual.shape == (2, 25)
    assert out.segment.shape == (2, 10, 2, 25)
    for name in ("audio", "visual", "segment"):
        value = getattr(out, name)
        assert torch.all((value >= 0) & (value <= 1)), name
    # the video score is only bounded by 2 (see test_video_score_can_exceed_one)
    assert torch.all((out.video >= 0) & (out.video <= 2))


def test_without_3d_stream_and_pieces():
    torch.manual_seed(0)
    model = HAN(visual_2d_dim=768, visual_3d_dim=None, num_classes=7).eval()
    assert model.fc_st is None and model.fc_fusion is None
    audio, visual = torch.randn(2, 10, 128), torch.randn(2, 10, 768)
    f_a, f_v = model.encode(audio, visual)
    assert f_a.shape == f_v.shape == (2, 10, 512)
    torch.testing.assert_close(f_v, model.fc_v(visual))
    hat_a, hat_v, att = model.hybrid_attention(f_a, f_v, return_attention=True)
    for key in ("self_a", "self_v", "cross_a", "cross_v"):
        assert att[key].shape == (2, 10, 10)
        torch.testing.assert_close(att[key].sum(-1), torch.ones(2, 10))
    out = model.mmil_head(hat_a, hat_v)
    assert out.segment.shape == (2, 10, 2, 7)
    with pytest.raises(ValueError, match="visual_3d_dim=None"):
        model(audio, visual, torch.randn(2, 10, 512))


def test_input_validation_messages():
    model = HAN()
    audio, visual_2d, visual_3d = _inputs(batch=1)
    with pytest.raises(ValueError, match=r"visual_2d must be .*got \(1, 75, 2048\)"):
        model(audio, visual_2d[:, :75], visual_3d)
    with pytest.raises(ValueError, match="pass visual_3d"):
        model(audio, visual_2d)


# --------------------------------------------------------- hand-worked MMIL
def test_attentive_pooling_hand_example():
    # T=2 segments, C=1 class.  P^a = (0.2, 0.4), P^v = (0.6, 1.0).
    prob = torch.tensor([[0.2, 0.6], [0.4, 1.0]]).reshape(1, 2, 2, 1)
    # temporal attention: audio softmax(0, ln 3) = (1/4, 3/4); visual uniform (1/2, 1/2)
    frame_logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]]).reshape(1, 2, 2, 1)
    av_logits = torch.zeros(1, 2, 2, 1)  # modality attention 1/2, 1/2
    out = attentive_mmil_pooling(prob, frame_logits, av_logits)
    # audio = 0.25*0.2 + 0.75*0.4 = 0.35; visual = 0.5*0.6 + 0.5*1.0 = 0.8; video = (0.35 + 0.8)/2
    torch.testing.assert_close(out.audio, torch.tensor([[0.35]]))
    torch.testing.assert_close(out.visual, torch.tensor([[0.8]]))
    torch.testing.assert_close(out.video, torch.tensor([[0.575]]))
    assert out.segment is prob


def test_video_score_can_exceed_one():
    # Eq. (4) is not a convex combination: softmax_t is normalised per modality and
    # softmax_av per segment, so sum_{t,m} W^t W^av can reach M = 2.  The official
    # training loop clamps it to [1e-7, 1 - 1e-7] before the BCE (main_avvp.py l. 18).
    prob = torch.ones(1, 2, 2, 1)
    big = 20.0
    frame_logits = torch.tensor([[big, 0.0], [0.0, big]]).reshape(1, 2, 2, 1)  # audio@t0, visual@t1
    av_logits = torch.tensor([[big, 0.0], [0.0, big]]).reshape(1, 2, 2, 1)  # t0 -> audio, t1 -> visual
    out = attentive_mmil_pooling(prob, frame_logits, av_logits)
    torch.testing.assert_close(out.video, torch.tensor([[2.0]]), atol=1e-6, rtol=0)
    torch.testing.assert_close(out.audio, torch.tensor([[1.0]]), atol=1e-6, rtol=0)


def test_uniform_heads_give_mean_pooling():
    torch.manual_seed(0)
    model = HAN(num_classes=3, audio_dim=4, visual_2d_dim=6, visual_3d_dim=5, d_model=8, ffn_dim=8).eval()
    with torch.no_grad():
        for head in (model.fc_frame_att, model.fc_av_att):
            head.weight.zero_()
            head.bias.zero_()
        out = model(torch.randn(2, 3, 4), torch.randn(2, 6, 6), torch.randn(2, 3, 5))
    # W^t = 1/T and W^av = 1/2: video = mean over (t, m); audio/visual = mean over t
    torch.testing.assert_close(out.video, out.segment.mean(dim=(1, 2)))
    torch.testing.assert_close(out.audio, out.segment[:, :, 0].mean(dim=1))
    torch.testing.assert_close(out.visual, out.segment[:, :, 1].mean(dim=1))


# ------------------------------------------------------- official oracle
@pytest.mark.parametrize("prefix", ["", "module."])
def test_official_state_dict_reproduces_oracle(oracle, oracle_out, prefix):
    sd = {prefix + k: v for k, v in oracle.state_dict().items()}
    model = HAN.from_official_state_dict(sd).eval()
    with torch.no_grad():
        out = model(*_inputs())
    _assert_matches(out, oracle_out)


def test_to_official_state_dict_round_trip(oracle_out):
    torch.manual_seed(1)
    model = HAN().eval()
    target = official_han.MMIL_Net().eval()
    missing, unexpected = target.load_state_dict(model.to_official_state_dict(), strict=False)
    assert not unexpected
    assert missing and all(k.startswith(UNUSED_PREFIXES) for k in missing)
    inputs = _inputs()
    with torch.no_grad():
        _assert_matches(model(*inputs), target(*inputs))
    # and back again
    again = HAN.from_official_state_dict(target.state_dict()).eval()
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k


def test_pooling_before_fc_v_equals_official_order(oracle):
    model = HAN.from_official_state_dict(oracle.state_dict()).eval()
    _, visual_2d, _ = _inputs()
    with torch.no_grad():
        official = oracle.fc_v(visual_2d).permute(0, 2, 1).unsqueeze(-1)
        official = F.avg_pool2d(official, (8, 1)).squeeze(-1).permute(0, 2, 1)
        pooled_first = model.fc_v(visual_2d.reshape(3, 10, 8, 2048).mean(dim=2))
        torch.testing.assert_close(pooled_first, official, atol=1e-5, rtol=0)
        # feeding pre-pooled frames (k = 1) gives the same outputs as 8 frames per segment
        audio, _, visual_3d = _inputs()
        full = model(audio, visual_2d, visual_3d)
        prepooled = model(audio, visual_2d.reshape(3, 10, 8, 2048).mean(dim=2), visual_3d)
    _assert_matches(prepooled, full, atol=1e-6)


def test_unimodal_han_drops_cross_attention(oracle, oracle_out):
    model = HAN.from_official_state_dict(oracle.state_dict(), cross_modal=False).eval()
    assert model.hat_layer.cm_attn is None
    assert not any("cm_attn" in k for k in model.state_dict())
    audio, visual_2d, visual_3d = _inputs()
    with torch.no_grad():
        out = model(audio, visual_2d, visual_3d)
        assert (out.segment - oracle_out[3]).abs().max() > 1e-3
        # equals the official network whose cross-attention output is zeroed
        muted = _random_oracle()
        muted.hat_encoder.layers[0].cm_attn.out_proj.weight.zero_()
        muted.hat_encoder.layers[0].cm_attn.out_proj.bias.zero_()
        _assert_matches(out, muted(audio, visual_2d, visual_3d))
        # the audio tokens no longer depend on the visual ones (they do with cross-attention)
        cross = HAN.from_official_state_dict(oracle.state_dict()).eval()
        f_a, f_v = model.encode(audio, visual_2d, visual_3d)
        other_v = torch.randn_like(f_v)
        torch.testing.assert_close(model.hybrid_attention(f_a, f_v)[0], model.hybrid_attention(f_a, other_v)[0])
        assert not torch.allclose(cross.hybrid_attention(f_a, f_v)[0], cross.hybrid_attention(f_a, other_v)[0])
        _, _, att = model.hybrid_attention(f_a, f_v, return_attention=True)
        assert att["cross_a"] is None and att["self_a"].shape == (3, 10, 10)


# ------------------------------------------------------------ error paths
def test_state_dict_errors_name_the_key(oracle):
    sd = dict(oracle.state_dict())
    sd["fc_prob.weight"] = torch.zeros(24, 512)
    with pytest.raises(ValueError, match=r"'fc_prob\.weight': expected shape \(25, 512\), got \(24, 512\)"):
        HAN.from_official_state_dict(sd)
    sd = dict(oracle.state_dict())
    del sd["hat_encoder.layers.0.cm_attn.in_proj_weight"]
    with pytest.raises(ValueError, match=r"missing key 'hat_encoder\.layers\.0\.cm_attn\.in_proj_weight' "
                                         r"\(expected shape \(1536, 512\)\)"):
        HAN.from_official_state_dict(sd)
    sd = dict(oracle.state_dict())
    sd["class_tokens"] = torch.zeros(25, 512)
    with pytest.raises(ValueError, match="unexpected keys.*class_tokens"):
        HAN.from_official_state_dict(sd)


# ---------------------------------------------------------- determinism
def test_determinism_and_gradients():
    inputs = _inputs(batch=2)

    def run():
        torch.manual_seed(123)
        model = HAN().train()
        out = model(*inputs)  # dropout active
        return model, out

    m1, o1 = run()
    m2, o2 = run()
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(o1, o2):
        assert torch.equal(a, b)
    o1.video.sum().backward()
    assert all(p.grad is not None for p in m1.parameters())
