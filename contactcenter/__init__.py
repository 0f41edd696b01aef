"""Contact-center engine: one sans-I/O routing core, driven live (asyncio) or simulated (SimPy)."""

from contactcenter.compiled import refuse_stale

refuse_stale()  # before any compiled module of the core can be imported
