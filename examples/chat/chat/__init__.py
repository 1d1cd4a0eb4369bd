"""The chat app: room pages and the WebSocket consumer that broadcasts to a room."""
