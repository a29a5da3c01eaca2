"""A third toy world, used only as a test fixture: it shares nothing with the other two but being
a vision-language model. Other people, facts, drawings, colour and clothing words and phrasing; a
byte-level BPE tokenizer; a Qwen2-VL layout (its own processor, dynamic-resolution patches merged
2x2, M-RoPE positions the model builds itself) with a Qwen2 decoder and a ChatML template.

    python tests/third_world/build.py          # about 7 minutes on 2 cores
"""

from pathlib import Path

MODEL_DIR = Path(__file__).parent / "assets" / "model"


def as_test_world():
    """This world as the benchmarks and end-to-end tests see it."""
    from forgetctl.benchmarks.worlds import TestWorld
    from third_world import truth
    from third_world.drawing import write_views
    from third_world.world import describe, load_world

    world = load_world()
    return TestWorld("third", MODEL_DIR, world.known, world.unlike, write_views, describe, truth)
