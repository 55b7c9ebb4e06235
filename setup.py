# Copyright (c) mmbeitv2 contributors. All rights reserved.
from setuptools import find_packages, setup


def read_requirements(path: str) -> list:
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith(('#', '-r'))
        ]


def get_version() -> str:
    scope: dict = {}
    with open('mmbeitv2/version.py') as f:
        exec(compile(f.read(), 'mmbeitv2/version.py', 'exec'), scope)
    return scope['__version__']


setup(
    name='mmbeitv2',
    version=get_version(),
    description='BEiT v2 (VQ-KD tokenizer training, MIM pretraining, '
    'downstream benchmarks) as an OpenMMLab plugin',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    # benchmarks/ holds our own measurement harnesses: not installed
    packages=find_packages(
        exclude=('configs', 'tools', 'tests', 'tests.*', 'benchmarks',
                 'benchmarks.*')),
    # the demo's embedded CIFAR-10 subset (mmbeitv2/datasets/demo/embedded/)
    package_data={'mmbeitv2': ['datasets/demo/embedded/*']},
    python_requires='>=3.10',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt')},
    license='Apache License 2.0',
    zip_safe=False)
