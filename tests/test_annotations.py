"""LLP label files -> tensors, exactly as the official evaluation fills them, and the quirk report."""
from __future__ import annotations

import pytest

from avvp_lib.data import annotations as ann


@pytest.fixture(scope="module")
def real():
    return ann.load_llp()


def write_dir(tmp_path, train="BjCEufrlXm4_20_30\tSpeech,Dog\n", val="AAAAAAAAAAA_0_10\tDog,Speech\n",
              test="BBBBBBBBBBB_0_10\tCar\n", audio="AAAAAAAAAAA_0_10\t2\t5\tDog\n", visual="BBBBBBBBBBB_0_10\t0\t10\tCar\n",
              sep="\t"):
    head = sep.join(["filename", "event_labels"]) + "\n"
    ehead = sep.join(["filename", "onset", "offset", "event_labels"]) + "\n"
    (tmp_path / "AVVP_train.csv").write_text(head + train)
    (tmp_path / "AVVP_val_pd.csv").write_text(head + val)
    (tmp_path / "AVVP_test_pd.csv").write_text(head + test)
    (tmp_path / "AVVP_eval_audio.csv").write_text(ehead + audio)
    (tmp_path / "AVVP_eval_visual.csv").write_text(ehead + visual)
    return tmp_path


def test_real_split_sizes_and_shapes(real):
    assert (len(real.train), len(real.val), len(real.test)) == (10000, 649, 1200)
    assert real.train.labels.shape == (10000, 25) and real.train.gt_audio is None
    assert real.val.gt_audio.shape == (649, 10, 25) and real.test.gt_visual.shape == (1200, 10, 25)
    assert real.train.video_ids[0] == "BjCEufrlXm4"


def test_real_dense_fill_matches_official_slicing(real):
    # AVVP_eval_audio.csv: KSRjje7GH44_60_70  8 10 Blender  and  0 8 Speech  (test split)
    i = real.test.filenames.index("KSRjje7GH44_60_70")
    blender, speech = ann.class_index("Blender"), ann.class_index("Speech")
    assert real.test.gt_audio[i, :, blender].tolist() == [0] * 8 + [1] * 2
    assert real.test.gt_audio[i, :, speech].tolist() == [1] * 8 + [0] * 2


def test_real_quirks_are_reported_not_dropped(real):
    table = real.quirk_table()
    counts = table.kind.value_counts().to_dict()
    assert counts["zero_length"] == 5 and counts["inverted"] == 1
    inverted = table[table.kind == "inverted"].iloc[0]
    assert inverted.filename == "8DF2PxdT5tE_390_400" and "Cheering" in inverted.detail
    assert table[table.kind == "not_in_split"].filename.nunique() == 8
    # the inverted interval fills nothing, as gt[9:0] = 1 does in the official code
    i = real.val.filenames.index("8DF2PxdT5tE_390_400")
    assert real.val.gt_audio[i, :, ann.class_index("Cheering")].sum() == 0


def test_hand_made_interval_fill(tmp_path):
    labels = ann.load_llp(write_dir(tmp_path))
    dog = ann.class_index("Dog")
    assert labels.val.gt_audio[0, :, dog].tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]  # [2, 5) -> segments 2, 3, 4
    assert labels.test.gt_visual[0].sum() == 10 and labels.val.gt_visual.sum() == 0
    assert labels.val.labels[0].sum() == 2


def test_unknown_class_lists_the_known_ones(tmp_path):
    with pytest.raises(ann.AnnotationError) as err:
        ann.load_llp(write_dir(tmp_path, train="BjCEufrlXm4_20_30\tSpeech,Doggo\n"))
    message = str(err.value)
    assert "'Doggo'" in message and "AVVP_train.csv, line 2" in message and "Baby_cry_infant_cry" in message


def test_comma_separated_file_gets_a_hint(tmp_path):
    with pytest.raises(ann.AnnotationError, match="comma-separated"):
        ann.load_llp(write_dir(tmp_path, sep=","))


def test_missing_column(tmp_path):
    write_dir(tmp_path)
    (tmp_path / "AVVP_eval_visual.csv").write_text("filename\tonset\tevent_labels\nBBBBBBBBBBB_0_10\t0\tCar\n")
    with pytest.raises(ann.AnnotationError, match=r"AVVP_eval_visual.csv: header is .*expected"):
        ann.load_llp(tmp_path)


def test_out_of_range_interval_is_an_error(tmp_path):
    with pytest.raises(ann.AnnotationError, match=r"line 2: interval \[3, 12\).*outside \[0, 10\]"):
        ann.load_llp(write_dir(tmp_path, audio="AAAAAAAAAAA_0_10\t3\t12\tDog\n"))


def test_inverted_interval_is_a_quirk_or_strict_error(tmp_path):
    root = write_dir(tmp_path, audio="AAAAAAAAAAA_0_10\t7\t3\tDog\n")
    labels = ann.load_llp(root)
    assert [q.kind for q in labels.quirks if q.kind == "inverted"] == ["inverted"]
    assert labels.val.gt_audio.sum() == 0
    with pytest.raises(ann.AnnotationError, match="inverted interval"):
        ann.load_llp(root, strict=True)


def test_empty_split_and_missing_file(tmp_path):
    with pytest.raises(ann.AnnotationError, match="AVVP_test_pd.csv: no videos"):
        ann.load_llp(write_dir(tmp_path, test=""))
    (tmp_path / "AVVP_train.csv").unlink()
    with pytest.raises(ann.AnnotationError, match="AVVP_train.csv: label file not found"):
        ann.load_llp(tmp_path)


def test_modality_type_shares_hand_example():
    import torch

    gt_a = torch.zeros(3, 10, 25)
    gt_v = torch.zeros(3, 10, 25)
    labels = torch.zeros(3, 25)
    labels[:, 0] = 1
    gt_a[0, :3, 0] = 1  # video 0: audible-only
    gt_a[1, :3, 0] = 1
    gt_v[1, 5:, 0] = 1  # video 1: both modalities (unaligned in time, still audible-visible at video level)
    gt_v[2, :, 0] = 1  # video 2: visible-only
    shares = ann.modality_type_shares(gt_a, gt_v, labels)
    assert [round(float(shares[k][0]), 4) for k in ("audible_only", "visible_only", "audible_visible")] == [0.3333] * 3
