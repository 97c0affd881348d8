"""Tests for avvp_lib.data.features: official layouts -> tensors, and every error message."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest
import torch

from avvp_lib.data.features import (
    CLIPCLAP_STREAMS,
    HAN_STREAMS,
    PROMPT_STREAMS,
    STREAMS,
    FeatureError,
    load_clip_clap,
    load_features,
    load_prompt_embeddings,
    resident_bytes,
    save_array_atomic,
    stream_path,
    video_id,
)

N_VIDEOS = 20
# (torch.testing.assert_close is avoided: its first call spends ~1 s on lazy imports)
# on-disk dtypes deliberately mixed: the loader must accept any float dtype and cast
DISK_DTYPES = {"audio": np.float64, "visual_2d": np.float16, "visual_3d": np.float32,
               "clip": np.float16, "clap": np.float32}


def _ids(n: int) -> list[str]:
    return [f"vid{i:08d}" for i in range(n)]  # 11 characters, like a YouTube id


def write_root(root, ids, streams=HAN_STREAMS + CLIPCLAP_STREAMS, seed=0, prompts=True):
    """A tiny feature root in the official layout; returns {stream: (N, *shape) float64 truth}."""
    rng = np.random.default_rng(seed)
    truth = {}
    for name in streams:
        dt = DISK_DTYPES[name]
        arrays = rng.standard_normal((len(ids), *STREAMS[name].shape)).astype(dt)
        for vid, arr in zip(ids, arrays):
            save_array_atomic(stream_path(root, name, vid), arr)
        truth[name] = arrays.astype(np.float64)
    if prompts:
        for name, spec in PROMPT_STREAMS.items():
            emb = rng.standard_normal(spec.shape)
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            save_array_atomic(stream_path(root, name), emb.astype(np.float32))
            truth[name] = emb.astype(np.float32).astype(np.float64)
    return truth


@pytest.fixture(scope="module")
def feature_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    ids = _ids(N_VIDEOS)
    return root, ids, write_root(root, ids)


@pytest.fixture
def small_root(tmp_path):
    """Three videos of the HAN streams, for error cases that damage files."""
    ids = _ids(3)
    write_root(tmp_path, ids, streams=HAN_STREAMS, prompts=False)
    return tmp_path, ids


# --------------------------------------------------------------------------- ids
def test_video_id_takes_first_11_characters():
    assert video_id("BjCEufrlXm4_20_30") == "BjCEufrlXm4"
    assert video_id("-0A9suni5YA") == "-0A9suni5YA"


def test_video_id_too_short_names_the_filename():
    with pytest.raises(FeatureError, match=r"'abc_1_2' is 7 characters.*11"):
        video_id("abc_1_2")


# --------------------------------------------------------------------------- loading
def test_shapes_dtype_and_values(feature_root):
    root, ids, truth = feature_root
    # LLP filenames are accepted in place of ids, and the order is kept
    filenames = [f"{v}_{i}_{i + 10}" for i, v in enumerate(ids)][::-1]
    feats = load_features(root, filenames)
    assert set(feats) == {"audio", "visual_2d", "visual_3d"}
    assert feats["audio"].shape == (N_VIDEOS, 10, 128)
    assert feats["visual_2d"].shape == (N_VIDEOS, 80, 2048)
    assert feats["visual_3d"].shape == (N_VIDEOS, 10, 512)
    for name, t in feats.items():
        assert t.dtype == torch.float32 and t.is_contiguous()
        expected = truth[name][::-1].astype(np.float32)  # float64 on disk is cast, not rounded twice
        np.testing.assert_array_equal(t.numpy(), expected)


def test_pooled_visual_2d_is_mean_of_each_segments_8_frames(feature_root):
    root, ids, truth = feature_root
    pooled = load_features(root, ids, pool_visual_2d=True)
    assert pooled["visual_2d"].shape == (N_VIDEOS, 10, 2048)
    frames = truth["visual_2d"]  # (N, 80, 2048), float16 values held in float64
    # frames 8s..8s+7 belong to segment s (HAN's avg_pool2d with kernel (8, 1))
    by_hand = np.stack([frames[:, 8 * s:8 * s + 8].mean(axis=1) for s in range(10)], axis=1)
    np.testing.assert_allclose(pooled["visual_2d"].numpy(), by_hand, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(pooled["audio"].numpy(), truth["audio"].astype(np.float32))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_output_dtype(feature_root, dtype):
    root, ids, truth = feature_root
    feats = load_features(root, ids[:5], dtype=dtype)
    for name, t in feats.items():
        assert t.dtype == dtype
        expected = torch.tensor(truth[name][:5]).to(dtype)
        assert torch.equal(t, expected)


def test_float16_pooled(feature_root):
    root, ids, _ = feature_root
    ref = load_features(root, ids, pool_visual_2d=True)["visual_2d"]
    half = load_features(root, ids, dtype=torch.float16, pool_visual_2d=True)["visual_2d"]
    assert half.dtype == torch.float16
    assert torch.equal(half, ref.half())  # averaged in float32, then rounded once


@pytest.mark.parametrize("pool", [False, True])
def test_mmap_gives_the_same_tensors(feature_root, pool):
    root, ids, _ = feature_root
    plain = load_features(root, ids, pool_visual_2d=pool)
    mapped = load_features(root, ids, mmap=True, pool_visual_2d=pool)
    for name in plain:
        assert torch.equal(plain[name], mapped[name])


def test_progress_bar_does_not_change_the_result(feature_root):
    root, ids, _ = feature_root
    a = load_features(root, ids[:3], progress=True)
    b = load_features(root, ids[:3])
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_clip_clap(feature_root):
    root, ids, truth = feature_root
    feats = load_clip_clap(root, ids)
    assert feats["clip"].shape == (N_VIDEOS, 10, 768)
    assert feats["clap"].shape == (N_VIDEOS, 10, 512)
    np.testing.assert_array_equal(feats["clip"].numpy(), truth["clip"].astype(np.float32))
    assert load_clip_clap(root, ids, dtype=torch.float16)["clap"].dtype == torch.float16


def test_prompt_embeddings(feature_root):
    root, _, truth = feature_root
    prompts = load_prompt_embeddings(root)
    assert set(prompts) == {"clip_text", "clap_text"}
    assert prompts["clip_text"].shape == (25, 768) and prompts["clap_text"].shape == (25, 512)
    for name, t in prompts.items():
        assert t.dtype == torch.float32
        np.testing.assert_array_equal(t.numpy(), truth[name].astype(np.float32))
        np.testing.assert_allclose(t.norm(dim=1).numpy(), 1.0, rtol=1e-5)


def test_prompt_embeddings_missing(tmp_path):
    (tmp_path / "feats_CLIP" / "event_feats").mkdir(parents=True)
    with pytest.raises(FeatureError) as err:
        load_prompt_embeddings(tmp_path)
    msg = str(err.value)
    assert "2 of 2" in msg and "all_event_feats.npy" in msg and "(25x768)" in msg


def test_resident_bytes():
    per_video = 10 * 128 + 80 * 2048 + 10 * 512
    assert resident_bytes(3349, torch.float32) == 3349 * per_video * 4
    assert resident_bytes(3349, torch.float16) == 3349 * per_video * 2
    assert resident_bytes(2, torch.float32, pool_visual_2d=True) == 2 * (1280 + 20480 + 5120) * 4
    assert resident_bytes(1, np.float32, streams=CLIPCLAP_STREAMS) == (7680 + 5120) * 4


def test_save_array_atomic_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "sub" / "x.npy"
    save_array_atomic(path, np.zeros((2, 3), np.float32))
    save_array_atomic(path, np.ones((2, 3), np.float16))
    got = np.load(path)
    assert got.dtype == np.float16 and got.sum() == 6
    assert os.listdir(path.parent) == ["x.npy"]


def test_save_array_atomic_cleans_up_on_error(tmp_path):
    with pytest.raises(ValueError):
        save_array_atomic(tmp_path / "bad.npy", np.array([{"a": 1}], dtype=object))
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- errors
def _message(root, ids, **kw) -> str:
    with pytest.raises(FeatureError) as err:
        load_features(root, ids, **kw)
    return str(err.value)


def test_missing_root_names_it_and_the_expected_subfolders(tmp_path):
    msg = _message(tmp_path / "nowhere", _ids(2))
    assert str(tmp_path / "nowhere") in msg and "does not exist" in msg
    for sub in ("vggish/", "res152/", "r2plus1d_18/"):
        assert sub in msg


def test_missing_clip_root_lists_clip_clap_subfolders(tmp_path):
    with pytest.raises(FeatureError, match="feats_CLIP/segment_feats/.*feats_CLAP/segment_feats/"):
        load_clip_clap(tmp_path / "nowhere", _ids(2))


def test_missing_files_are_all_counted_first(tmp_path):
    ids = _ids(8)
    write_root(tmp_path, ids, streams=HAN_STREAMS, prompts=False)
    for vid in ids[1:]:  # 7 missing visual_3d files
        os.remove(stream_path(tmp_path, "visual_3d", vid))
    os.remove(stream_path(tmp_path, "audio", ids[0]))  # and 1 audio file
    msg = _message(tmp_path, ids)
    assert "8 of 24 feature files are missing" in msg
    assert "vggish: 1" in msg and "r2plus1d_18: 7" in msg
    assert str(stream_path(tmp_path, "audio", ids[0])) in msg
    listed = re.findall(r"vid\d{8}\.npy", msg.split("First 5:")[1].split("Expected")[0])
    assert len(listed) == 5
    assert "<root>/r2plus1d_18/<id>.npy (10x512)" in msg


def test_missing_subfolder_is_named(small_root):
    root, ids = small_root
    for vid in ids:
        os.remove(stream_path(root, "visual_2d", vid))
    os.rmdir(root / "res152")
    msg = _message(root, ids)
    assert "3 of 9" in msg and "res152: 3, folder missing" in msg


def test_empty_id_list(small_root):
    root, _ = small_root
    assert "video_ids is empty" in _message(root, [])


def test_single_string_instead_of_list(small_root):
    root, ids = small_root
    assert "single string" in _message(root, ids[0])


def test_truncated_file(small_root):
    root, ids = small_root
    path = stream_path(root, "visual_2d", ids[1])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for mmap in (False, True):
        msg = _message(root, ids, mmap=mmap)
        assert str(path) in msg and "truncated" in msg
        assert "float16 (80, 2048)" in msg and f"{80 * 2048 * 2} data bytes" in msg
        assert f"{len(data) // 2} bytes in total" in msg


def test_corrupt_file(small_root):
    root, ids = small_root
    path = stream_path(root, "audio", ids[2])
    path.write_bytes(b"this is not an npy file at all")
    msg = _message(root, ids)
    assert str(path) in msg and "not a readable .npy file" in msg and "(10, 128)" in msg


def test_wrong_shape(small_root):
    root, ids = small_root
    path = stream_path(root, "visual_2d", ids[0])
    np.save(path, np.zeros((79, 2048), np.float32))
    msg = _message(root, ids)
    assert str(path) in msg and "expected shape (80, 2048)" in msg and "got (79, 2048)" in msg


def test_wrong_shape_is_caught_when_pooling(small_root):
    root, ids = small_root
    path = stream_path(root, "visual_2d", ids[0])
    np.save(path, np.zeros((10, 2048), np.float32))  # pre-pooled file where 80 frames are expected
    msg = _message(root, ids, pool_visual_2d=True)
    assert str(path) in msg and "(80, 2048)" in msg and "got (10, 2048)" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values(small_root, bad):
    root, ids = small_root
    path = stream_path(root, "visual_3d", ids[1])
    arr = np.load(path)
    arr[3, 7] = bad
    arr[5, 0] = bad
    np.save(path, arr)
    msg = _message(root, ids)
    assert str(path) in msg and "2 non-finite value(s)" in msg and "(row 3, col 7)" in msg


def test_non_finite_in_pooled_frames(small_root):
    root, ids = small_root
    path = stream_path(root, "visual_2d", ids[2])
    arr = np.load(path)
    arr[42, 1000] = np.nan
    np.save(path, arr)
    for kw in ({"pool_visual_2d": True}, {"dtype": torch.float16}, {"mmap": True}):
        msg = _message(root, ids, **kw)
        assert str(path) in msg and "1 non-finite value(s)" in msg and "(row 42, col 1000)" in msg


def test_overflow_when_casting_to_float16(small_root):
    root, ids = small_root
    path = stream_path(root, "audio", ids[0])
    arr = np.zeros((10, 128), np.float64)
    arr[2, 4] = 1e6  # finite on disk, inf in float16
    np.save(path, arr)
    assert load_features(root, ids)["audio"][0, 2, 4] == 1e6
    msg = _message(root, ids, dtype=torch.float16)
    assert str(path) in msg and "overflow torch.float16" in msg and "(row 2, col 4)" in msg


def test_large_finite_values_are_not_a_false_alarm(small_root):
    root, ids = small_root
    arr = np.full((10, 512), 3e38, np.float32)  # the row sum overflows, the values do not
    np.save(stream_path(root, "visual_3d", ids[0]), arr)
    assert load_features(root, ids)["visual_3d"][0].max() == torch.tensor(3e38)


@pytest.mark.parametrize("mmap", [False, True])
def test_object_array(small_root, mmap):
    root, ids = small_root
    path = stream_path(root, "audio", ids[1])
    np.save(path, np.empty((10, 128), dtype=object), allow_pickle=True)
    msg = _message(root, ids, mmap=mmap)
    assert str(path) in msg and "dtype object is not a floating-point type" in msg and "(10, 128)" in msg


def test_integer_array(small_root):
    root, ids = small_root
    path = stream_path(root, "visual_3d", ids[0])
    np.save(path, np.zeros((10, 512), np.int64))
    msg = _message(root, ids)
    assert str(path) in msg and "dtype int64 is not a floating-point type" in msg


def test_npz_under_npy_name(small_root):
    root, ids = small_root
    path = stream_path(root, "audio", ids[0])
    with open(path, "wb") as f:
        np.savez(f, a=np.zeros((10, 128), np.float32))
    msg = _message(root, ids)
    assert str(path) in msg and ".npz archive" in msg


def test_bad_output_dtype(small_root):
    root, ids = small_root
    assert "dtype must be one of" in _message(root, ids, dtype=torch.int32)


def test_streams_table_is_the_single_source_of_truth(tmp_path):
    assert {n: (s.subdir, s.shape) for n, s in STREAMS.items()} == {
        "audio": ("vggish", (10, 128)),
        "visual_2d": ("res152", (80, 2048)),
        "visual_3d": ("r2plus1d_18", (10, 512)),
        "clip": ("feats_CLIP/segment_feats", (10, 768)),
        "clap": ("feats_CLAP/segment_feats", (10, 512)),
    }
    assert stream_path(tmp_path, "clip_text") == tmp_path / "feats_CLIP/event_feats/all_event_feats.npy"
    assert stream_path(tmp_path, "clap", "BjCEufrlXm4") == tmp_path / "feats_CLAP/segment_feats/BjCEufrlXm4.npy"
    with pytest.raises(FeatureError, match="unknown stream 'video'.*audio, visual_2d"):
        stream_path(tmp_path, "video", "x")


@pytest.mark.parametrize("pool", [False, True])
def test_fortran_order_and_big_endian_files(small_root, pool):
    root, ids = small_root
    ref = load_features(root, ids, pool_visual_2d=pool)
    for vid in ids[:2]:
        path = stream_path(root, "visual_2d", vid)
        arr = np.load(path)
        np.save(path, np.asfortranarray(arr) if vid == ids[0] else arr.astype(">f4"))
    got = load_features(root, ids, pool_visual_2d=pool)
    assert all(torch.equal(ref[k], got[k]) for k in ref)


def test_thread_setting_is_restored_even_after_an_error(small_root):
    root, ids = small_root
    before = torch.get_num_threads()
    load_features(root, ids)
    os.remove(stream_path(root, "audio", ids[0]))
    np.save(stream_path(root, "audio", ids[0]), np.zeros((3, 3), np.float32))
    _message(root, ids)
    assert torch.get_num_threads() == before
