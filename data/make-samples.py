#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes data/samples/: the first Fashion-MNIST test image of every class as an 8-bit gray PNG
# (from Debian's dataset-fashion-mnist), named after its class. Needs only numpy.
import gzip
import os
import struct
import zlib

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"
NAMES = ["tshirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
         "bag", "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def write_png(path, gray):
    h, w = gray.shape
    raw = b"".join(b"\x00" + gray[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def main():
    images = read_idx(os.path.join(SRC, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(SRC, "t10k-labels-idx1-ubyte.gz"))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples")
    os.makedirs(out, exist_ok=True)
    for k, name in enumerate(NAMES):
        index = int(np.argmax(labels == k))
        write_png(os.path.join(out, f"fashion-{name}.png"), images[index])


if __name__ == "__main__":
    main()
