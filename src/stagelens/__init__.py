"""stagelens: which training stage gave this model its safety behaviour?"""

__version__ = "0.1.0"
