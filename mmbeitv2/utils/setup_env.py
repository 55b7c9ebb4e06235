# Copyright (c) mmbeitv2 contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmbeitv2 (and mmpretrain) module so that the registries
    are filled, and optionally set the default scope to ``mmbeitv2``.

    Args:
        init_default_scope (bool): Whether to set the default scope to
            ``mmbeitv2``. Defaults to True.
    """
    import mmpretrain.utils  # noqa: F401
    mmpretrain.utils.register_all_modules(init_default_scope=False)

    import mmbeitv2.datasets  # noqa: F401,F811
    import mmbeitv2.engine  # noqa: F401,F811
    import mmbeitv2.evaluation  # noqa: F401,F811
    import mmbeitv2.models  # noqa: F401,F811

    if not init_default_scope:
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope is None:
        DefaultScope.get_instance('mmbeitv2', scope_name='mmbeitv2')
    elif current_scope.scope_name != 'mmbeitv2':
        warnings.warn(f'The current default scope "{current_scope.scope_name}"'
                      ' is not "mmbeitv2", `register_all_modules` will force '
                      'the current default scope to be "mmbeitv2".')
        new_instance_name = f'mmbeitv2-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmbeitv2')
