"""Reports made-up training scalars for about 20 seconds.

Submit it:   meeshkan submit --name report-example --report-interval 10 examples/report.py
Or run it:   /usr/bin/python3 examples/report.py   (nothing is recorded outside a job)
"""

import math
import os
import sys
import time

try:
    import meeshkan
except ImportError:  # run from a checkout without installing the client
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
    import meeshkan

STEPS = 200


def main() -> None:
    # Notify when the evaluation loss drifts away from the training loss.
    meeshkan.add_condition("train loss", "evaluation loss", lambda train, evaluation: evaluation - train > 0.2)
    for step in range(STEPS):
        train_loss = math.exp(-step / 50)
        eval_loss = train_loss + step / STEPS * 0.3
        meeshkan.report_scalar("train loss", train_loss, "evaluation loss", eval_loss)
        if step % 20 == 0:
            print(f"step {step}/{STEPS}: train loss {train_loss:.3f}, evaluation loss {eval_loss:.3f}", flush=True)
        time.sleep(0.1)
    meeshkan.notify(f"report.py finished {STEPS} steps")
    print("done", flush=True)


if __name__ == "__main__":
    main()
