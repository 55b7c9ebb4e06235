# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Write shapes10, the demo's embedded default data set, to disk.

    python tools/dataset_converters/make_demo_dataset.py data/shapes10 \
        [--train 200 --val 50 --size 32 --seed 0]

ImageFolder layout: ``ROOT/{train,val}/<class>/<class>_NNNNN.png`` plus
``ROOT/meta.json``; see ``mmbeitv2/datasets/demo/shapes10.py`` and
docs/demo.md.
"""
import argparse

from mmbeitv2.datasets.demo.shapes10 import write_demo_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='output folder')
    parser.add_argument('--train', type=int, default=200,
                        help='train images per class')
    parser.add_argument('--val', type=int, default=50,
                        help='val images per class')
    parser.add_argument('--size', type=int, default=32, help='image side')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    meta = write_demo_dataset(args.root, args.train, args.val, args.size,
                              args.seed)
    print(f"{args.root}: {len(meta['classes'])} classes, "
          f"{meta['splits']} images per class")


if __name__ == '__main__':
    main()
