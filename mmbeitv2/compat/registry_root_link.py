# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Make ``type='mmbeitv2.X'`` resolve in other codebases' configs.

mmengine resolves a scoped type (``'mmbeitv2.BEiTv2ViT'`` in an mmseg config)
only among the *direct* children of the root registry
(``Registry.get``: ``scope not in root._children`` -> not found). mmbeitv2's
registries are children of mmpretrain's (``mmbeitv2/registry.py``), i.e.
grandchildren of the root, so mmseg could not find them. This adds each
mmbeitv2 registry to its root's children as well; its parent (mmpretrain,
for the fallback lookups of the ``mmbeitv2`` scope) is unchanged.
"""
from mmengine.registry import Registry


def link_scope_to_root() -> int:
    """Register every mmbeitv2 registry as a child of its root registry.

    Returns:
        int: How many registries were linked now.
    """
    from mmbeitv2 import registry as ours
    linked = 0
    for name in ours.__all__:
        child = getattr(ours, name)
        if not isinstance(child, Registry):
            continue
        root = child._get_root_registry()
        if root is child or root._children.get(child.scope) is child:
            continue
        if child.scope in root._children:
            continue  # another registry owns the name; leave it alone
        # mmengine keeps no public API to add a second parent link.
        root._children[child.scope] = child
        linked += 1
    return linked
