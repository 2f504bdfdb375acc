"""flashgen: turn the takeaways in your notes into Anki flashcards that stay in sync with them."""

__version__ = "0.1.0"
