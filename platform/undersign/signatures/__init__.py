"""The public side: hosted pages, signing, confirmation, withdrawal, counts, embeds."""
