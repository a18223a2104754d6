"""Configuration: the schema (typed objects) and the loader (lookup and validation)."""

from .loader import candidate_paths, find_config, load_config, parse_config_file, parse_config_text
from .schema import (
    AccountConfig,
    AlertsConfig,
    ChannelConfig,
    ClassifierConfig,
    Config,
    FollowupConfig,
    StoreConfig,
    SyncConfig,
)

__all__ = [
    "AccountConfig",
    "AlertsConfig",
    "ChannelConfig",
    "ClassifierConfig",
    "Config",
    "FollowupConfig",
    "StoreConfig",
    "SyncConfig",
    "candidate_paths",
    "find_config",
    "load_config",
    "parse_config_file",
    "parse_config_text",
]
