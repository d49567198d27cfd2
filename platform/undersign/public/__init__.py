"""The public face of the platform: what anyone may see without signing in.

The petition list, organization pages, the hosted petition pages and what
they are made of (the page's view-model, share links, the QR code, the embed's
view-model). It reads the campaigns, organizations and signatures domains and
writes nothing; signing itself is `undersign.signatures`.
"""
