// ES module entry point for the channels WebSocketBridge (one implementation:
// websocketbridge.js, which defines globalThis.channels.WebSocketBridge).
import "./websocketbridge.js";

export const WebSocketBridge = globalThis.channels.WebSocketBridge;
export default WebSocketBridge;
