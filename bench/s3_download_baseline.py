# boto3's download_file over the files of an S3 prefix, one file after another, each with
# TransferConfig(max_concurrency=10): the baseline of `MlModels.Bench downloads`.
# Usage: /usr/bin/python3 bench/s3_download_baseline.py ENDPOINT BUCKET PREFIX DEST  (prints seconds)
import os, sys, time
import boto3
from boto3.s3.transfer import TransferConfig

endpoint, bucket, prefix, dest = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
config = TransferConfig(max_concurrency=10)
start = time.perf_counter()
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
    keys += [o["Key"] for o in page.get("Contents", [])]
for key in keys:
    local = os.path.join(dest, os.path.relpath(key, prefix))
    os.makedirs(os.path.dirname(local), exist_ok=True)
    s3.download_file(bucket, key, local, Config=config)
print(f"{time.perf_counter() - start:.3f}")
