"""The planner: a SimPy driver of the production routing core, and Erlang analytics.

Modules, one concept each:

* ``scenario``: scenario YAML + forecast/staffing/roster CSVs -> a validated ``Model``;
* ``distributions``: handle-time, patience and tier draws from a seeded generator;
* ``driver``: one replication on ``env.now`` with the unchanged ``Router``;
* ``statistics``: KPIs from the router's domain events, confidence intervals;
* ``replications``: seeded independent replications in parallel processes;
* ``staffing``: the staffing search (Erlang-seeded, simulation-refined) and shrinkage;
* ``erlang``: Erlang B, C and A; ``builders``: small centers built in code;
* ``report`` and ``cli``: files, charts and the ``contactcenter-sim`` command.

Nothing of the planner is imported here, so ``import sim.erlang`` stays cheap.
``scripts/compile-core`` compiles the hot path (``driver``, ``statistics``,
``distributions``) with the routing core; ``COMPILED`` says whether it runs so.
"""

from pathlib import Path

from contactcenter.compiled import is_compiled, refuse_stale

refuse_stale(Path(__file__).resolve().parent)  # before any compiled module of it is imported

COMPILED = is_compiled("sim.driver")
"""Whether the planner's driver runs compiled with mypyc rather than as Python."""
