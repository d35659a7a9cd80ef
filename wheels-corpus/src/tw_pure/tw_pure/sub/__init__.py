"""A package subfolder of tw_pure."""
