/**
 * The tuning query set of bench:vector-quality over the MDN summaries of `lib.dom.d.ts` (corpus.ts),
 * each query with the one page it is looking for. Written for this benchmark before any mode was run:
 * `paraphrase` queries describe what the page does without naming it, `exact` queries hinge on the
 * API's own names, as a developer types them. The search's rerank, weights and exact-term rules were
 * then chosen on these sets, so their margins are optimistic; the verdict is on the held-out set
 * (heldout-queries.ts). Kept as they were tuned on, for comparison.
 */
export interface LabeledQuery {
  query: string;
  target: string;
}

export const PARAPHRASE: LabeledQuery[] = [
  {
    query: "where is this box on the screen, its size and offset from the visible area",
    target: "Element/getBoundingClientRect",
  },
  { query: "save a value in the browser under a key so it persists", target: "Storage/setItem" },
  {
    query: "find out where the user's device is located right now",
    target: "Geolocation/getCurrentPosition",
  },
  { query: "copy some text so the user can paste it elsewhere", target: "Clipboard/writeText" },
  { query: "get notified when an element becomes visible while scrolling", target: "IntersectionObserver" },
  { query: "watch for an element changing its width or height", target: "ResizeObserver" },
  { query: "be told when nodes are added to or removed from the page", target: "MutationObserver" },
  { query: "export the picture drawn on a canvas as an image string", target: "HTMLCanvasElement/toDataURL" },
  { query: "run a function whenever the user clicks a button", target: "EventTarget/addEventListener" },
  { query: "stop the browser from following a link when it is clicked", target: "Event/preventDefault" },
  { query: "cancel a request that is taking too long", target: "AbortController/abort" },
  { query: "generate a random unique identifier", target: "Crypto/randomUUID" },
  { query: "compute a SHA-256 hash of some bytes", target: "SubtleCrypto/digest" },
  { query: "read the contents of an uploaded file as a string", target: "FileReader/readAsText" },
  { query: "change the address in the location bar without reloading the page", target: "History/pushState" },
  { query: "show the video filling the whole screen", target: "Element/requestFullscreen" },
  { query: "start playing audio or video", target: "HTMLMediaElement/play" },
  {
    query: "check whether the screen is narrow or the user prefers a dark theme",
    target: "Window/matchMedia",
  },
  { query: "make a copy of a DOM node", target: "Node/cloneNode" },
  { query: "find the nearest parent that matches a selector", target: "Element/closest" },
  {
    query: "the final CSS values of an element after all stylesheets are applied",
    target: "Window/getComputedStyle",
  },
  { query: "measure elapsed time precisely for profiling", target: "Performance/now" },
  { query: "send analytics data to the server as the page is closing", target: "Navigator/sendBeacon" },
  { query: "ask for access to the camera and microphone", target: "MediaDevices/getUserMedia" },
  { query: "make the phone buzz", target: "Navigator/vibrate" },
  { query: "is the tab hidden or in the foreground", target: "Document/visibilityState" },
  { query: "how wide is the browser window", target: "Window/innerWidth" },
  { query: "talk between a page and an iframe from another origin", target: "Window/postMessage" },
];

export const EXACT: LabeledQuery[] = [
  { query: "Element getBoundingClientRect", target: "Element/getBoundingClientRect" },
  { query: "setItem", target: "Storage/setItem" },
  { query: "getCurrentPosition", target: "Geolocation/getCurrentPosition" },
  { query: "clipboard writeText", target: "Clipboard/writeText" },
  { query: "IntersectionObserver", target: "IntersectionObserver" },
  { query: "scrollIntoView", target: "Element/scrollIntoView" },
  { query: "toDataURL", target: "HTMLCanvasElement/toDataURL" },
  { query: "HTMLCanvasElement getContext", target: "HTMLCanvasElement/getContext" },
  { query: "createElement HTMLUnknownElement", target: "Document/createElement" },
  { query: "stopPropagation", target: "Event/stopPropagation" },
  { query: "getRandomValues", target: "Crypto/getRandomValues" },
  { query: "randomUUID v4 UUID", target: "Crypto/randomUUID" },
  { query: "readAsText", target: "FileReader/readAsText" },
  { query: "sendBeacon", target: "Navigator/sendBeacon" },
  { query: "pushState", target: "History/pushState" },
  { query: "HTMLInputElement checkValidity", target: "HTMLInputElement/checkValidity" },
  { query: "document querySelectorAll", target: "Document/querySelectorAll" },
  { query: "insertAdjacentHTML", target: "Element/insertAdjacentHTML" },
  { query: "showModal dialog", target: "HTMLDialogElement/showModal" },
  { query: "devicePixelRatio", target: "Window/devicePixelRatio" },
  { query: "createOffer SDP", target: "RTCPeerConnection/createOffer" },
  { query: "getUserMedia", target: "MediaDevices/getUserMedia" },
  { query: "setPointerCapture", target: "Element/setPointerCapture" },
  { query: "ServiceWorkerContainer register", target: "ServiceWorkerContainer/register" },
  { query: "IDBObjectStore put", target: "IDBObjectStore/put" },
  { query: "DOMTokenList toggle", target: "DOMTokenList/toggle" },
  { query: "TextEncoder encode Uint8Array", target: "TextEncoder/encode" },
  { query: "BroadcastChannel postMessage", target: "BroadcastChannel/postMessage" },
];
