"""The blog's read-through cache: one namespace, made stale by any write to blog data.

One generation for the whole blog is deliberate: a post's title appears in list pages, tag pages,
category pages and its own page, and writes are rare next to reads, so precise invalidation would
buy little and risk much. See :mod:`domain.cache` for why no read after a write can be stale.
"""

from domain.cache import Namespace

blog_cache = Namespace("blog")
