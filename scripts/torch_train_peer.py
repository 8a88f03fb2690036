"""The Python peer for `scripts/benchmark-train-peer.sh`: a plain PyTorch training loop with the
recipe of the Ppcls run it is compared with, on the same list files.

Stock torchvision MobileNetV2 in torch.channels_last (model and batches), 2 threads, a DataLoader
with 2 worker processes; per epoch: RandomResizedCrop(size, scale 0.5-1) + horizontal flip +
ImageNet normalisation, batch 128, SGD momentum 0.9, L2 3e-5, cosine LR from 0.05 with one warm-up
epoch (per step, as PaddleClas's Cosine), cross-entropy with label smoothing 0.1. Evaluates once
at the end (resize short side to size*9/8, centre crop). Prints one JSON line.
"""
import argparse
import json
import math
import os
import sys
import time

try:
    import torch
    import torchvision
    from PIL import Image
except ImportError as missing:
    sys.exit(f"torch_train_peer.py: {missing}; install the peer with: apt-get install python3-torch python3-torchvision python3-pil")

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True, help="image_root of the list files")
parser.add_argument("--train-list", required=True)
parser.add_argument("--val-list", required=True)
parser.add_argument("--classes", type=int, required=True)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--size", type=int, default=32)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--workers", type=int, default=2)
args = parser.parse_args()
started = time.perf_counter()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
T = torchvision.transforms
normalize = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


class ListDataset(torch.utils.data.Dataset):
    def __init__(self, list_file, transform):
        with open(list_file) as f:
            self.items = [(os.path.join(args.root, p), int(l)) for p, l in (line.split() for line in f if line.strip())]
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        return self.transform(Image.open(path).convert("RGB")), label


train = torch.utils.data.DataLoader(
    ListDataset(args.train_list, T.Compose([T.RandomResizedCrop(args.size, scale=(0.5, 1.0)), T.RandomHorizontalFlip(), T.ToTensor(), normalize])),
    batch_size=args.batch_size, shuffle=True, num_workers=args.workers, persistent_workers=args.workers > 0)
val = torch.utils.data.DataLoader(
    ListDataset(args.val_list, T.Compose([T.Resize(args.size * 9 // 8), T.CenterCrop(args.size), T.ToTensor(), normalize])),
    batch_size=args.batch_size, num_workers=args.workers)
model = torchvision.models.mobilenet_v2(num_classes=args.classes).to(memory_format=torch.channels_last)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=3e-5)
steps, warmup = args.epochs * len(train), len(train)
schedule = torch.optim.lr_scheduler.LambdaLR(
    optimizer, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, steps - warmup))))
loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
epoch_seconds = []
for epoch in range(args.epochs):
    model.train()
    start = time.perf_counter()
    for images, labels in train:
        loss = loss_fn(model(images.contiguous(memory_format=torch.channels_last)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    epoch_seconds.append(time.perf_counter() - start)
model.eval()
correct = total = 0
with torch.no_grad():
    for images, labels in val:
        correct += (model(images.contiguous(memory_format=torch.channels_last)).argmax(1) == labels).sum().item()
        total += len(labels)
print(json.dumps({"model": "torchvision.mobilenet_v2", "phase": "train", "size": args.size, "batch": args.batch_size,
                  "threads": args.threads, "epochs": args.epochs, "wall_s": round(time.perf_counter() - started, 2),
                  "epoch_s": [round(s, 2) for s in epoch_seconds], "last_loss": round(loss.item(), 4),
                  "top1": round(correct / total, 4), "torch": torch.__version__}))
