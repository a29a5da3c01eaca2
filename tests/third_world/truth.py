"""What the third world knows to be true about an answer (tests and benchmarks only): the
shared rules (`toy_world.Truth`) over this world's traits."""

from third_world.world import TRAITS
from toy_world import Truth

TRUTH = Truth(TRAITS, absent="plain")
revealed, leaks, names_someone, describes = TRUTH.revealed, TRUTH.leaks, TRUTH.names_someone, TRUTH.describes
