"""Batch machinery.

- `collect`: the `batch` step of one-record runs — records collected by group key across
  runs and flushed by size or age, one carrier run going on with the whole group;
- a batch flow (`for_each`): one run over the many records of its input, split into chunks
  (`chunks`) that run the records in memory (`records`, `chunk_effects`, `summary`), then
  finished once (`runs`, `completion`)."""
