/**
 * The held-out query set of bench:vector-quality: written from the summaries in `lib.dom.d.ts`
 * (corpus.ts) after the search's rerank, weights and rules were settled, and never used to choose
 * any of them. Its verdict is the one that counts; the tuning set (quality-queries.ts) is scored
 * beside it. Do not edit a query or a target here to change a result: a new idea gets a new set.
 *
 * Every target is a page the tuning set does not target, and no page is the target of two queries
 * here (query-checks.ts checks both). Three kinds, as users send them:
 * - `paraphrase`: what the page does, in words that contain none of the page's names;
 * - `exact`: API names as a developer types them (`Interface member`, a bare member, a dotted name);
 * - `mixed`: a need in plain words plus one exact name (`name`), the rest again without the page's
 *   names. The name is often the interface and the need picks the member; sometimes it is a related
 *   API's name (`watchPosition` for `Geolocation/clearWatch`).
 */
import type { LabeledQuery } from "./quality-queries.js";

export interface MixedQuery extends LabeledQuery {
  /** The one exact name in the query, as it stands there. */
  name: string;
}

export const HELDOUT_PARAPHRASE: LabeledQuery[] = [
  {
    query:
      "read or set the small bits of state a site keeps in the browser and sends along with every request",
    target: "Document/cookie",
  },
  { query: "how many pixels has the user moved down the page so far", target: "Window/scrollY" },
  { query: "show an OK or Cancel box and wait for the user to choose one", target: "Window/confirm" },
  { query: "let the user get a paper copy of the current page", target: "Window/print" },
  {
    query: "run low-priority work only when the browser has nothing else to do",
    target: "Window/requestIdleCallback",
  },
  { query: "refresh the current page, as pressing F5 does", target: "Location/reload" },
  { query: "the fragment after the # sign in the current page's address", target: "Location/hash" },
  {
    query: "go to the previous page the user visited, like the browser's arrow button",
    target: "History/back",
  },
  { query: "delete one saved key from the browser's local key-value store", target: "Storage/removeItem" },
  { query: "take a byte range out of a chunk of binary data as a new object", target: "Blob/slice" },
  { query: "the date an uploaded document was most recently edited", target: "File/lastModified" },
  {
    query: "turn a picked image into a base64 string I can put in an img src",
    target: "FileReader/readAsDataURL",
  },
  { query: "did the HTTP call succeed with a 2xx status code", target: "Response/ok" },
  { query: "push a message to the server over an open two-way connection", target: "WebSocket/send" },
  { query: "get what the user has copied so my app can paste it", target: "Clipboard/readText" },
  { query: "keep getting updates as the device's location changes", target: "Geolocation/watchPosition" },
  {
    query: "make a fresh public and private pair for RSA or elliptic-curve algorithms",
    target: "SubtleCrypto/generateKey",
  },
  { query: "turn a buffer of UTF-8 bytes back into a string", target: "TextDecoder/decode" },
  {
    query: "get the picture drawn on the 2D drawing surface as a PNG file object to upload",
    target: "HTMLCanvasElement/toBlob",
  },
  {
    query: "stop receiving notifications about changes to the DOM tree",
    target: "MutationObserver/disconnect",
  },
  {
    query: "drop a named timestamp in the browser's timeline so I can time code later",
    target: "Performance/mark",
  },
  {
    query: "keep the other handlers on the same element from running for this click",
    target: "Event/stopImmediatePropagation",
  },
  {
    query: "detach a handler function I registered earlier so it no longer fires",
    target: "EventTarget/removeEventListener",
  },
  {
    query: "which character did the user type, with Shift and the layout taken into account",
    target: "KeyboardEvent/key",
  },
  {
    query: "the horizontal coordinate in the visible area where the pointer was pressed",
    target: "MouseEvent/clientX",
  },
  {
    query: "how tall is the content of a box, including the part cut off by overflow",
    target: "Element/scrollHeight",
  },
  { query: "replace the markup inside a div with a string of tags", target: "Element/innerHTML" },
  { query: "test whether a given node would be picked by a CSS selector", target: "Element/matches" },
  {
    query: "take a sub-element out of its parent in the DOM tree and get it back",
    target: "Node/removeChild",
  },
  {
    query: "turn a text of HTML or XML markup into a document I can query",
    target: "DOMParser/parseFromString",
  },
  {
    query: "find the saved HTTP response for a request in the offline response store",
    target: "Cache/match",
  },
  { query: "turn off the webcam feed so the camera light goes out", target: "MediaStreamTrack/stop" },
  { query: "list the microphones, cameras and headsets plugged in", target: "MediaDevices/enumerateDevices" },
  { query: "begin capturing a camera stream into video file chunks", target: "MediaRecorder/start" },
  { query: "make a tone generator that produces a sine wave", target: "BaseAudioContext/createOscillator" },
  { query: "have the browser say a sentence aloud in a computer voice", target: "SpeechSynthesis/speak" },
  { query: "gzip data on the fly in the browser", target: "CompressionStream" },
  { query: "how much disk quota has my site used and how much is left", target: "StorageManager/estimate" },
  {
    query: "keep the phone display from dimming or turning off while my app runs",
    target: "WakeLock/request",
  },
  { query: "open the phone's native sheet to send a link to another app", target: "Navigator/share" },
  {
    query: "show a system-level desktop message to the user even when the tab is in the background",
    target: "Notification",
  },
  { query: "make the video go faster, like 1.5x or 2x speed", target: "HTMLMediaElement/playbackRate" },
  { query: "jump to 30 seconds into the video", target: "HTMLMediaElement/currentTime" },
  { query: "highlight characters 3 to 7 of a text field", target: "HTMLInputElement/setSelectionRange" },
  { query: "put all the fields back to their default values", target: "HTMLFormElement/reset" },
  { query: "which control currently has keyboard focus", target: "Document/activeElement" },
  { query: "change the text shown in the browser tab for this page", target: "Document/title" },
  { query: "has the page finished loading yet or is it still being parsed", target: "Document/readyState" },
  { query: "make a link save the file to disk instead of opening it", target: "HTMLAnchorElement/download" },
  {
    query: "float the movie in a small always-on-top window while I use other apps",
    target: "HTMLVideoElement/requestPictureInPicture",
  },
  {
    query: "tell the browser which class implements my own HTML tag like my-widget",
    target: "CustomElementRegistry/define",
  },
  {
    query: "give a component an encapsulated DOM tree so outside CSS doesn't leak in",
    target: "Element/attachShadow",
  },
  { query: "get all the words inside an element without any tags", target: "Node/textContent" },
  { query: "get the things the user dropped onto the page from the desktop", target: "DataTransfer/files" },
];

export const HELDOUT_EXACT: LabeledQuery[] = [
  { query: "replaceState", target: "History/replaceState" },
  { query: "Node appendChild", target: "Node/appendChild" },
  { query: "getElementById", target: "Document/getElementById" },
  { query: "createDocumentFragment", target: "Document/createDocumentFragment" },
  { query: "setAttribute", target: "Element/setAttribute" },
  { query: "element classList", target: "Element/classList" },
  { query: "HTMLFormElement requestSubmit", target: "HTMLFormElement/requestSubmit" },
  { query: "select selectedIndex", target: "HTMLSelectElement/selectedIndex" },
  { query: "URLSearchParams append", target: "URLSearchParams/append" },
  { query: "FormData append", target: "FormData/append" },
  { query: "Blob arrayBuffer", target: "Blob/arrayBuffer" },
  { query: "readAsArrayBuffer", target: "FileReader/readAsArrayBuffer" },
  { query: "WebSocket bufferedAmount", target: "WebSocket/bufferedAmount" },
  { query: "Worker postMessage", target: "Worker/postMessage" },
  { query: "new MessageChannel port1 port2", target: "MessageChannel" },
  { query: "SubtleCrypto importKey", target: "SubtleCrypto/importKey" },
  { query: "deriveKey PBKDF2", target: "SubtleCrypto/deriveKey" },
  { query: "encodeInto", target: "TextEncoder/encodeInto" },
  { query: "canvas captureStream", target: "HTMLCanvasElement/captureStream" },
  { query: "isIntersecting", target: "IntersectionObserverEntry/isIntersecting" },
  { query: "takeRecords", target: "MutationObserver/takeRecords" },
  { query: "PerformanceObserver", target: "PerformanceObserver" },
  { query: "performance getEntriesByType", target: "Performance/getEntriesByType" },
  { query: "event.currentTarget", target: "Event/currentTarget" },
  { query: "dispatchEvent", target: "EventTarget/dispatchEvent" },
  { query: "KeyboardEvent code", target: "KeyboardEvent/code" },
  { query: "ctrlKey", target: "KeyboardEvent/ctrlKey" },
  { query: "deltaY wheel", target: "WheelEvent/deltaY" },
  { query: "pointerType", target: "PointerEvent/pointerType" },
  { query: "getPropertyValue", target: "CSSStyleDeclaration/getPropertyValue" },
  { query: "CSSStyleSheet insertRule", target: "CSSStyleSheet/insertRule" },
  { query: "replaceSync", target: "CSSStyleSheet/replaceSync" },
  { query: "scrollTop", target: "Element/scrollTop" },
  { query: "outerHTML", target: "Element/outerHTML" },
  { query: "compareDocumentPosition", target: "Node/compareDocumentPosition" },
  { query: "isConnected", target: "Node/isConnected" },
  { query: "customElements.whenDefined", target: "CustomElementRegistry/whenDefined" },
  { query: "slot assignedNodes", target: "HTMLSlotElement/assignedNodes" },
  { query: "serializeToString", target: "XMLSerializer/serializeToString" },
  { query: "xhr responseType", target: "XMLHttpRequest/responseType" },
  { query: "IDBDatabase createObjectStore", target: "IDBDatabase/createObjectStore" },
  { query: "IDBCursor continue", target: "IDBCursor/continue" },
  { query: "Cache addAll", target: "Cache/addAll" },
  { query: "PushManager subscribe", target: "PushManager/subscribe" },
  { query: "getDisplayMedia", target: "MediaDevices/getDisplayMedia" },
  { query: "decodeAudioData", target: "BaseAudioContext/decodeAudioData" },
  { query: "linearRampToValueAtTime", target: "AudioParam/linearRampToValueAtTime" },
  { query: "addIceCandidate", target: "RTCPeerConnection/addIceCandidate" },
  { query: "ReadableStream pipeTo", target: "ReadableStream/pipeTo" },
  { query: "DOMMatrix", target: "DOMMatrix" },
  { query: "navigator.getGamepads()", target: "Navigator/getGamepads" },
  { query: "document.fullscreenElement", target: "Document/fullscreenElement" },
  { query: "navigator.locks request", target: "LockManager/request" },
];

export const HELDOUT_MIXED: MixedQuery[] = [
  {
    query: "how do I stop IntersectionObserver watching an element",
    name: "IntersectionObserver",
    target: "IntersectionObserver/unobserve",
  },
  {
    query: "turn off the location updates I started with watchPosition",
    name: "watchPosition",
    target: "Geolocation/clearWatch",
  },
  {
    query: "wait until an Animation is done before removing the element",
    name: "Animation",
    target: "Animation/finished",
  },
  {
    query: "make an Animation run backwards from its end to its start",
    name: "Animation",
    target: "Animation/reverse",
  },
  {
    query: "shut down a WebSocket connection when I'm done with it",
    name: "WebSocket",
    target: "WebSocket/close",
  },
  {
    query: "end an EventSource connection so it stops reconnecting",
    name: "EventSource",
    target: "EventSource/close",
  },
  {
    query: "list every audio and video feed inside a MediaStream",
    name: "MediaStream",
    target: "MediaStream/getTracks",
  },
  {
    query: "turn plaintext into ciphertext with AES-GCM using SubtleCrypto",
    name: "SubtleCrypto",
    target: "SubtleCrypto/encrypt",
  },
  {
    query: "check that a digital signature is valid with SubtleCrypto",
    name: "SubtleCrypto",
    target: "SubtleCrypto/verify",
  },
  {
    query: "roll back everything done so far in an IDBTransaction",
    name: "IDBTransaction",
    target: "IDBTransaction/abort",
  },
  {
    query: "how many records are in an IDBObjectStore",
    name: "IDBObjectStore",
    target: "IDBObjectStore/count",
  },
  {
    query: "is a ShadowRoot open or closed to outside scripts",
    name: "ShadowRoot",
    target: "ShadowRoot/mode",
  },
  {
    query: "make a Range cover everything inside a given paragraph",
    name: "Range",
    target: "Range/selectNodeContents",
  },
  {
    query: "clear whatever text the user highlighted, through the Selection object",
    name: "Selection",
    target: "Selection/removeAllRanges",
  },
  {
    query: "visit only the text nodes under a div with a TreeWalker",
    name: "TreeWalker",
    target: "TreeWalker",
  },
  { query: "what does a DOMRect hold: the position and size of a box", name: "DOMRect", target: "DOMRect" },
  { query: "reuse one shape across several draws on a canvas with Path2D", name: "Path2D", target: "Path2D" },
  {
    query: "access the raw RGBA pixels of an area of a canvas as ImageData",
    name: "ImageData",
    target: "ImageData",
  },
  {
    query: "render graphics inside a web worker with OffscreenCanvas, off the main thread",
    name: "OffscreenCanvas",
    target: "OffscreenCanvas",
  },
  {
    query: "sound won't start: restart a suspended AudioContext after a click",
    name: "AudioContext",
    target: "AudioContext/resume",
  },
  { query: "turn down the volume of a sound with a GainNode", name: "GainNode", target: "GainNode" },
  {
    query: "wire one AudioNode's output into another or into the speakers",
    name: "AudioNode",
    target: "AudioNode/connect",
  },
  {
    query: "apply the SDP answer the other side sent me on an RTCPeerConnection",
    name: "RTCPeerConnection",
    target: "RTCPeerConnection/setRemoteDescription",
  },
  {
    query: "push a string to the other browser through an RTCDataChannel",
    name: "RTCDataChannel",
    target: "RTCDataChannel/send",
  },
  {
    query: "force a ServiceWorkerRegistration to check the server for a newer script",
    name: "ServiceWorkerRegistration",
    target: "ServiceWorkerRegistration/update",
  },
  {
    query: "throw away an old version's saved responses by name in CacheStorage",
    name: "CacheStorage",
    target: "CacheStorage/delete",
  },
  {
    query: "save a response I fetched myself into a Cache under its request",
    name: "Cache",
    target: "Cache/put",
  },
  {
    query: "sign the user in with a saved password or passkey from CredentialsContainer",
    name: "CredentialsContainer",
    target: "CredentialsContainer/get",
  },
  {
    query: "open the browser's checkout UI for a PaymentRequest",
    name: "PaymentRequest",
    target: "PaymentRequest/show",
  },
  {
    query: "which attribute or child list changed, as told by a MutationRecord",
    name: "MutationRecord",
    target: "MutationRecord",
  },
  {
    query: "read the new width and height of the watched box from a ResizeObserverEntry",
    name: "ResizeObserverEntry",
    target: "ResizeObserverEntry/contentRect",
  },
  {
    query: "read the Content-Type value from a fetch response's Headers",
    name: "Headers",
    target: "Headers/get",
  },
  {
    query: "read a fetch Response body twice, once for the cache and once for the page",
    name: "Response",
    target: "Response/clone",
  },
  { query: "has the AbortSignal already been cancelled", name: "AbortSignal", target: "AbortSignal/aborted" },
  {
    query: "dismiss a modal HTMLDialogElement from script and pass back a return value",
    name: "HTMLDialogElement",
    target: "HTMLDialogElement/close",
  },
  {
    query: "expand or collapse an HTMLDetailsElement disclosure widget from code",
    name: "HTMLDetailsElement",
    target: "HTMLDetailsElement/open",
  },
  {
    query: "copy the fragment inside an HTMLTemplateElement into the page",
    name: "HTMLTemplateElement",
    target: "HTMLTemplateElement/content",
  },
  {
    query: "reach the global object of the page inside an HTMLIFrameElement",
    name: "HTMLIFrameElement",
    target: "HTMLIFrameElement/contentWindow",
  },
  {
    query: "has this HTMLImageElement finished loading",
    name: "HTMLImageElement",
    target: "HTMLImageElement/complete",
  },
  {
    query: "does an Event travel up through the ancestors of its target",
    name: "Event",
    target: "Event/bubbles",
  },
  {
    query: "track progress of a file being sent with XMLHttpRequest",
    name: "XMLHttpRequest",
    target: "XMLHttpRequest/upload",
  },
  { query: "kill a Worker right away from the main thread", name: "Worker", target: "Worker/terminate" },
  {
    query: "simulate a user pressing an HTMLElement from script",
    name: "HTMLElement",
    target: "HTMLElement/click",
  },
  {
    query: "use addSourceBuffer to feed video segments for adaptive streaming",
    name: "addSourceBuffer",
    target: "MediaSource/addSourceBuffer",
  },
  {
    query: "hide the cursor for a first-person game with requestPointerLock",
    name: "requestPointerLock",
    target: "Element/requestPointerLock",
  },
  {
    query: "is the device in portrait or landscape, screen.orientation",
    name: "screen.orientation",
    target: "Screen/orientation",
  },
  {
    query: "draw a music visualizer from getByteFrequencyData",
    name: "getByteFrequencyData",
    target: "AnalyserNode/getByteFrequencyData",
  },
  {
    query: "check with navigator.permissions whether the camera was already allowed",
    name: "navigator.permissions",
    target: "Permissions/query",
  },
];
