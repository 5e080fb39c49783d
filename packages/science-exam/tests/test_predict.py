"""``science-exam-predict`` refuses a broken ``models/`` folder with one line naming the file."""

import json

import pytest

from science_exam.data import DataError
from science_exam.predict import read_manifest


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (None, "manifest.json: not found"),
        ("{not json", "manifest.json: not valid JSON"),
        ({"kind": "stack"}, "'kind' must be 'blend' or 'cascade', got 'stack'"),
        ({"kind": "blend", "members": []}, "a blend with no members"),
        ({"kind": "blend", "members": ["x"]}, "members[0] is not a JSON object"),
        (
            {"kind": "blend", "members": [{"name": "a", "folds": ["a/fold-0"], "tta": 0, "weight": 1}]},
            "members[0] (a): fold folder",
        ),
        (
            {"kind": "cascade", "small": {"name": "s", "folds": ["s/fold-0"], "tta": 0}},
            "without its 'large' reader",
        ),
    ],
)
def test_broken_manifests_give_one_line(tmp_path, manifest, expected):
    if manifest is not None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (tmp_path / "manifest.json").write_text(text)
    (tmp_path / "s" / "fold-0").mkdir(parents=True)
    with pytest.raises(DataError) as err:
        read_manifest(tmp_path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_cascade_needs_its_share(tmp_path):
    member = {"name": "s", "folds": ["s/fold-0"], "tta": 0}
    (tmp_path / "s" / "fold-0").mkdir(parents=True)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "cascade", "small": member, "large": member}))
    with pytest.raises(DataError, match="'share' of questions it routes"):
        read_manifest(tmp_path)
