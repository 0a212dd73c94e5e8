"""Getting video off cameras: RTSP/RTP reception, H.264 depacketising, stream health."""
