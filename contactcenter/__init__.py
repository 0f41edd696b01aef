"""Contact-center engine: one sans-I/O routing core, driven live (asyncio) or simulated (SimPy)."""
