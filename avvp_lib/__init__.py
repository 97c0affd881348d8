from avvp_lib.version import __version__
