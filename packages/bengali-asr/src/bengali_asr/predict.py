"""``bengali-asr-predict --models DIR [--data-dir DIR] [--output FILE]``: the Kaggle inference step.

From a reproduce or train run's ``models/`` (acoustic model and vocabulary, ARPA LM, lexicon and tuned decoder
settings, punctuation model, ``manifest.json``; :mod:`bengali_asr.pipeline`) and the test files alone —
``sample_submission.csv`` and ``test_mp3s/`` — with no training data and no network, it transcribes every test
clip and writes ``submission.csv`` (``id, sentence``). A Kaggle notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels bengali-asr
    !bengali-asr-predict --models /kaggle/input/bengali-asr-models \\
        --data-dir /kaggle/input/bengaliai-speech --output submission.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from bengali_asr.audio import AudioError
from bengali_asr.data import DataError, load_test
from bengali_asr.experiment import read_split
from bengali_asr.pipeline import Pipeline
from shared.runs import open_prediction, predict_parser


def main(argv: list[str] | None = None) -> None:
    args = predict_parser(__doc__.split("\n")[0], "sample_submission.csv and test_mp3s/").parse_args(argv)
    from bengali_asr.paths import resolve_data_dir

    data_dir, _ = resolve_data_dir(args.data_dir)
    output, _ = open_prediction(args.output, args.verbose)
    try:
        pipeline = Pipeline(Path(args.models))
        test = read_split("test", load_test(data_dir)[0], None)
    except (DataError, AudioError, FileNotFoundError, ValueError) as err:
        sys.exit(f"bengali-asr-predict: {err}")
    sentences = pipeline.transcribe(test.waves, desc="test")
    pd.DataFrame({"id": test.ids, "sentence": sentences}).to_csv(output, index=False)
    print(
        f"bengali-asr-predict: {len(test)} clips transcribed into {output} (system: {pipeline.manifest['rung']})"
    )


if __name__ == "__main__":
    main()
