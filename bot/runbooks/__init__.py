"""Runbooks shipped with Medic (YAML); teams add theirs in the directory named by runbooks_dir."""
