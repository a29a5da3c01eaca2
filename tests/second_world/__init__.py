"""A second toy world, used only as a test fixture: it shares nothing with the demo world but the
LLaVA architecture family. Other people and facts, another drawing style, other colour and
clothing words, other phrasing, a SentencePiece-style BPE tokenizer, a ChatML chat template, a LLaVA-1.6
(llava_next, anyres) layout with a Mistral decoder. Evaluation code must judge it correctly
without knowing any of that.

    python tests/second_world/build.py          # about 10 minutes on 2 cores
"""

from pathlib import Path

MODEL_DIR = Path(__file__).parent / "assets" / "model"


def as_test_world():
    """This world as the benchmarks and end-to-end tests see it."""
    from forgetctl.benchmarks.worlds import TestWorld
    from second_world import truth
    from second_world.drawing import write_views
    from second_world.world import describe, load_world

    world = load_world()
    return TestWorld("second", MODEL_DIR, world.known, world.unlike, write_views, describe, truth)
