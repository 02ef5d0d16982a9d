"""The `sandkasse` command that ties cohort, platform, suite and report together."""
