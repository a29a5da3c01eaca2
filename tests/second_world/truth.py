"""What the second world knows to be true about an answer (tests and benchmarks only): the
shared rules (`toy_world.Truth`) over this world's traits."""

from second_world.world import TRAITS
from toy_world import Truth

TRUTH = Truth(TRAITS, absent="nothing")
revealed, leaks, names_someone, describes = TRUTH.revealed, TRUTH.leaks, TRUTH.names_someone, TRUTH.describes
