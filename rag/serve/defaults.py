"""The serving defaults the `rag serve` parser shows, in a module that loads nothing else: building
the parser for any command (`rag ask` too) then leaves the serving stack unloaded."""

# A safety cap only: admission follows the predicted wait, which refuses far earlier at any real pace.
MAX_QUEUE = 10_000
# With several serving processes, one silent this long is killed and replaced; never less than the minimum,
# which leaves room for a busy process's once-a-second sign of life.
DEFAULT_HUNG_SECONDS = 60.0
MIN_HUNG_SECONDS = 3.0
