"""Capture across several processes: one reads, several decode, this one orders and writes.

- The reader process (``reader_process``) holds the binlog connection, cuts the payloads it
  receives into numbered batches (``batches.Batcher``) and deals them out to the workers in
  turn.
- Each worker process (``worker_process``) decodes its batches into source events, row images
  already Avro-encoded, and sends them back.
- The capture process takes the decoded batches back in their numbered order
  (``source.PipelineSource``), so the assembler sees the binlog's order exactly as before,
  and only it writes to Kafka: the exactly-once rules do not change, and the committed tail
  of the changelog stays the only resume point.

Every pipe is bounded by the operating system's pipe buffer, so a reader ahead of the others
waits, and memory stays bounded however large a source transaction is. A child that dies
makes capture stop with exit status 5 (nothing past the last Kafka commit counts); started
again, it resumes from the changelog.
"""
