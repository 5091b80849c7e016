"""The Singer side: the streams, their RECORD and STATE messages, and the singer-sdk fence."""
