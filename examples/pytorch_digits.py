"""A small PyTorch network on scikit-learn's 8x8 `digits` images, reporting to Meeshkan.

Needs Debian's python3-torch and python3-sklearn (apt-get install -y python3-torch python3-sklearn).
Submit it:   meeshkan submit --name digits --report-interval 30 --python /usr/bin/python3 examples/pytorch_digits.py
Or run it:   /usr/bin/python3 examples/pytorch_digits.py
Runs in well under a minute on two cores.
"""

import os
import sys
import time

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

try:
    import meeshkan
except ImportError:  # run from a checkout without installing the client
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
    import meeshkan

EPOCHS = 40
BATCH_SIZE = 64


def load() -> tuple:
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    x_train, x_test, y_train, y_test = load()
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    # The learning rate decays each epoch: reported beside the loss, on a scale a thousand times smaller.
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    loss_function = nn.CrossEntropyLoss()

    # Notify when the network starts to overfit.
    meeshkan.add_condition("train loss", "test loss", lambda train, test: test - train > 0.15)

    started = time.monotonic()
    batches = 0
    for epoch in range(1, EPOCHS + 1):
        epoch_started = time.monotonic()
        learning_rate = optimizer.param_groups[0]["lr"]
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_function(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
            batches += 1
            total += loss.item() * len(batch)
        train_loss = total / len(x_train)
        throughput = len(x_train) / max(time.monotonic() - epoch_started, 1e-9)
        scheduler.step()

        model.eval()
        with torch.no_grad():
            logits = model(x_test)
            test_loss = loss_function(logits, y_test).item()
            accuracy = (logits.argmax(dim=1) == y_test).float().mean().item()
        meeshkan.report_scalar("train loss", train_loss, "test loss", test_loss, "test accuracy", accuracy,
                               "learning rate", learning_rate, "samples/s", throughput, "batches", batches)
        print(f"epoch {epoch:2d}: train loss {train_loss:.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {accuracy:.3f}", flush=True)

    meeshkan.notify(f"digits: test accuracy {accuracy:.3f} after {EPOCHS} epochs "
                    f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
