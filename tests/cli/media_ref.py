#!/usr/bin/python3
"""A second implementation of maif's log-mel spectrogram (numpy), written
from the definition in docs/UNDERSTANDING.md, to check the C one:
reads a 16-bit PCM WAV, prints the largest absolute difference between
its log-mel frames and those of libmaif (maif_audio_spectrum), and the
frame counts. Usage: media_ref.py LIBMAIF.so FILE.wav"""
import ctypes, struct, sys
import numpy as np

lib = ctypes.CDLL(sys.argv[1])
data = open(sys.argv[2], "rb").read()
nframes = ctypes.c_size_t()
fn = lib.maif_audio_spectrum
fn.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
fn(data, len(data), 0, None, 0, ctypes.byref(nframes))
buf = (ctypes.c_float * (nframes.value * 40))()
assert fn(data, len(data), 0, buf, len(buf), ctypes.byref(nframes)) == 0
c = np.frombuffer(buf, dtype=np.float32).reshape(nframes.value, 40).astype(np.float64)

# the WAV: find fmt and data chunks
assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
off, fmt, pcm = 12, None, None
while off + 8 <= len(data):
    tag, n = data[off:off + 4], struct.unpack("<I", data[off + 4:off + 8])[0]
    if tag == b"fmt ": fmt = struct.unpack("<HHIIHH", data[off + 8:off + 24])
    if tag == b"data": pcm = data[off + 8:off + 8 + n]; break
    off += 8 + n + (n & 1)
tag, ch, rate, _, align, bits = fmt
assert tag == 1 and bits == 16
x = np.frombuffer(pcm[:len(pcm) // align * align], dtype="<i2").reshape(-1, ch).astype(np.float64).mean(axis=1) / 32768.0

win, hop = int(rate * 0.025 + 0.5), int(rate * 0.010 + 0.5)
nfft = 1 << (win - 1).bit_length()
count = 1 if len(x) <= win else 1 + (len(x) - win + hop - 1) // hop
mel = lambda f: 2595 * np.log10(1 + f / 700.0)
imel = lambda m: 700 * (10 ** (m / 2595.0) - 1)
pts = imel(np.linspace(mel(0), mel(rate / 2), 42))
f = np.arange(nfft // 2 + 1) * rate / nfft
fb = np.zeros((40, len(f)))
for m in range(40):
    up = (f > pts[m]) & (f < pts[m + 1])
    down = (f >= pts[m + 1]) & (f < pts[m + 2])
    fb[m, up] = (f[up] - pts[m]) / (pts[m + 1] - pts[m])
    fb[m, down] = (pts[m + 2] - f[down]) / (pts[m + 2] - pts[m + 1])
w = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(win) / (win - 1))
frames = np.zeros((count, nfft))
for t in range(count):
    seg = x[t * hop:t * hop + win]
    frames[t, :len(seg)] = seg * w[:len(seg)]
power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
ref = np.log(np.maximum(power @ fb.T, 1e-10))
print(count, nframes.value, float(np.max(np.abs(ref - c))))
