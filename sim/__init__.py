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

Nothing is imported here, so ``import sim.erlang`` stays cheap.
"""
