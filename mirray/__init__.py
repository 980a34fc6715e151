"""mirray: distributed music feature extraction on Ray Data."""

__version__ = "0.1.0"
