"""Decoding speed: audio seconds transcribed per wall second by greedy CTC decoding and by the LM beam search at
two beam widths, and the real-time factor of the whole pipeline, on the same clips in one run.

    uv run --package bengali-asr python packages/bengali-asr/benchmarks/decoding.py \\
        --models outputs/bengali-asr/reproduce-<timestamp>/models [--data-dir DIR] [--clips 120] \\
        [--beams 10,50] [--threads 1]

``--models`` is a reproduce or train run's ``models/`` with a CTC system and its LM (``lm/``). The clips are the
first ``--clips`` test mp3s of ``--data-dir`` (default: the chapter's data, else the sample). The acoustic model's
emissions are computed once and timed (``acoustic``); greedy decoding and the beam searches read those same
emissions, so their rows are the decoders alone; ``pipeline`` is ``bengali_asr.pipeline.Pipeline.transcribe`` from
the waves (emissions, the manifest's decoding, denoising, rescoring and punctuation), the real-time factor users
see. RTF = wall seconds / audio seconds (below 1: faster than real time); throughput = 1 / RTF.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from bengali_asr.audio import SAMPLE_RATE
from bengali_asr.ctc import greedy_decode
from bengali_asr.data import load_test
from bengali_asr.experiment import read_split
from bengali_asr.language_model import decode_lm
from bengali_asr.paths import resolve_data_dir
from bengali_asr.pipeline import Pipeline


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--models", required=True, help="models/ of a reproduce or train run (a CTC system + LM)"
    )
    parser.add_argument("--data-dir", "--data_dir", default=None)
    parser.add_argument("--clips", type=int, default=120, help="test clips to decode")
    parser.add_argument("--beams", default="10,50", help="beam widths of the LM search, comma-separated")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data_dir, _ = resolve_data_dir(args.data_dir)
    test = read_split("test", load_test(data_dir)[0].head(args.clips), None)
    audio = sum(len(w) for w in test.waves) / SAMPLE_RATE
    pipeline = Pipeline(Path(args.models))
    if pipeline.acoustic is None or pipeline.lm is None:
        parser.error(
            f"{args.models}: the benchmark needs a CTC system with an LM (manifest: {pipeline.manifest})"
        )
    emissions, acoustic = timed(lambda: pipeline.acoustic.log_probs(test.waves, desc="acoustic"))
    rows = [("acoustic model (emissions)", acoustic)]
    _, greedy = timed(lambda: [greedy_decode(e, pipeline.acoustic.vocab) for e in emissions])
    rows.append(("greedy decoding", greedy))
    for beam in (int(b) for b in args.beams.split(",")):
        settings = replace(pipeline.settings, beam_size=beam)
        _, seconds = timed(lambda s=settings, b=beam: decode_lm(pipeline.lm, emissions, s, desc=f"beam {b}"))
        rows.append((f"beam search + LM, beam {beam}", seconds))
    _, whole = timed(lambda: pipeline.transcribe(test.waves, desc="pipeline"))
    rows.append((f"whole pipeline ({pipeline.manifest['rung']})", whole))
    table = pd.DataFrame(rows, columns=["step", "seconds"])
    table["audio s per wall s"] = audio / table["seconds"]
    table["RTF"] = table["seconds"] / audio
    print(f"{len(test)} clips, {audio:.1f} s of audio, {args.threads} thread(s)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return table


if __name__ == "__main__":
    main()
