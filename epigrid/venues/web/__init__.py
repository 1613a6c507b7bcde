"""The venues app's pages, one module per use: `registry` (venues, approval, posters),
`door` (the public scan page and the staff scanner), `checkpoints` (road checkpoints),
`trace` (trajectory, co-location, candidates). Each holds its views and its `urlpatterns`."""
