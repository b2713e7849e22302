from tests.runtime.conftest import doorbells  # noqa: F401  (the runtime's recorded doorbells)
