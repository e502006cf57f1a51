"""`screener bench`: reproducible throughput and latency figures, with baselines from the same run."""
