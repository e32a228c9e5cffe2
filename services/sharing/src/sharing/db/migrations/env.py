from servicekit.migrations import run_env
from sharing.db.models import SCHEMA, metadata

run_env(metadata, SCHEMA)
