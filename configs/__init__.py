"""Packaged YAML configs (installed as ``mirray.configs``)."""
