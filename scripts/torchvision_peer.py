"""The Python peer for `scripts/benchmark-peer.sh`: torchvision's MobileNetV2 train step.

Times forward + cross-entropy + backward + SGD(momentum 0.9) steps on random data, the same
work as `ppcls benchmark step`, and prints one JSON line. With --channels-last the model and the
batch are in torch.channels_last (NHWC), as PyTorch users run conv nets on CPU. With --paddle-arch the first
inverted residual block gets the 1x1 expand conv (32 -> 32, BN, ReLU6) that PaddleClas's
MobileNetV2, and so Ppcls's, keeps at expansion 1 and torchvision leaves out: the same
architecture as Ppcls's (3,505,960 parameters, 313.6 M MACs against torchvision's 300.8 M). Needs Debian's python3-torch and
python3-torchvision (the script says so if they are missing).
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torchvision
except ImportError as missing:
    sys.exit(f"torchvision_peer.py: {missing}; install the peer with: apt-get install python3-torch python3-torchvision")

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--image-size", type=int, default=224)
parser.add_argument("--steps", type=int, default=5)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--paddle-arch", action="store_true")
parser.add_argument("--channels-last", action="store_true", help="model and input in torch.channels_last, PyTorch's best CPU setting for conv nets")
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)
model = torchvision.models.mobilenet_v2(num_classes=1000)
if args.paddle_arch:
    from torchvision.ops.misc import Conv2dNormActivation
    first = model.features[1]
    first.conv = torch.nn.Sequential(
        Conv2dNormActivation(32, 32, kernel_size=1, norm_layer=torch.nn.BatchNorm2d, activation_layer=torch.nn.ReLU6), *first.conv)
if args.channels_last:
    model = model.to(memory_format=torch.channels_last)
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
images = torch.randn(args.batch_size, 3, args.image_size, args.image_size)
labels = torch.randint(1000, (args.batch_size,))
if args.channels_last:
    images = images.contiguous(memory_format=torch.channels_last)


def step():
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()


step()  # warm-up, as the Ppcls side does
times = []
for _ in range(args.steps):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
median = sorted(times)[len(times) // 2]
print(json.dumps({
    "model": "torchvision.mobilenet_v2" + ("+paddle_arch" if args.paddle_arch else ""), "phase": "train_step",
    "memory_format": "channels_last" if args.channels_last else "contiguous",
    "params": sum(p.numel() for p in model.parameters()), "size": args.image_size,
    "batch": args.batch_size, "threads": args.threads, "torch": torch.__version__,
    "median_ms": round(median * 1000, 1), "samples_per_s": round(args.batch_size / median, 2),
}))
