// The app's map: a Streamlit components v2 component (no iframe) around the shared renderer.
//
// data = {key, baseKey, base|null, state, height, facilities, facilityPoints|null}. `base` (folium's
// map script, the municipalities' topology and static data, the facility layers without their points)
// comes once per data set and browser session and is kept here; every later run sends only `state`,
// which render.js applies to the map already drawn, so the user's zoom and centre stay, and
// `facilities`, the kinds the page's switch shows. A kind's points (`facilityPoints`: names and
// coordinates) come once, in the run that first shows it, and are kept in the base here.
// A click sends the municipality's code as the trigger `clicked`.
import '../leaflet/leaflet.js';
import '../topojson/topojson-client.min.js';
import './render.js';

const bases = globalThis.__geoappBases || (globalThis.__geoappBases = {});
const views = globalThis.__geoappViews || (globalThis.__geoappViews = {});
const maps = globalThis.geoappMaps || (globalThis.geoappMaps = {});
const asked = globalThis.__geoappAskedPoints || (globalThis.__geoappAskedPoints = {});

// Leaflet's stylesheet, once per page; resolves when it applies. Labels measured before it (or before
// the page's fonts) would be measured at the wrong size, so they are placed again then.
let leafletCss = null;

function ensureStyles(base) {
  if (!leafletCss) {
    const link = document.createElement('link');
    link.id = 'geoapp-leaflet-css';
    link.rel = 'stylesheet';
    link.href = new URL('../leaflet/leaflet.css', import.meta.url).href;
    leafletCss = new Promise((resolve) => {
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve);
    });
    document.head.appendChild(link);
  }
  let style = document.getElementById('geoapp-map-css');
  if (!style) {
    style = document.createElement('style');
    style.id = 'geoapp-map-css';
    document.head.appendChild(style);
  }
  style.textContent = base.css;
}

function build(parentElement, data, base) {
  ensureStyles(base);
  parentElement.replaceChildren();
  const holder = document.createElement('div');
  holder.className = 'geoapp-live';
  holder.style.height = data.height + 'px';
  holder.style.position = 'relative';
  const div = document.createElement('div');
  div.id = base.mapId;
  div.style.height = '100%';
  div.style.width = '100%';
  holder.appendChild(div);
  parentElement.appendChild(holder);
  // folium's own script for the base map (our build, no user text), then the layer it made
  const made = new Function(base.script + '\nreturn [' + base.mapVar + ', ' + base.layerVar + ', ' + base.layerVar + '_data];')();
  const map = made[0];
  const viewKey = data.key + '|' + (data.view || data.baseKey);  // a new basemap keeps the view
  const saved = views[viewKey];
  // the facility layers are switched by the page's own control, not by Leaflet's (one switch, one state)
  const h = GeoAppLive.attach(map, made[1], made[2], base.info, saved, {facilityControl: false});
  h.baseKey = data.baseKey;
  holder.__geoapp = h;
  if (!saved && (!div.clientWidth || !div.clientHeight)) {  // drawn while hidden: fit once it has a size
    map.once('resize', () => map.fitBounds(base.info.bounds, {padding: [24, 24], animate: false}));
  }
  map.on('moveend zoomend', () => { views[viewKey] = {center: map.getCenter(), zoom: map.getZoom()}; });
  Promise.all([leafletCss, document.fonts.ready]).then(() => {
    map.invalidateSize({animate: false});
    GeoAppLive.declutter(h);
  });
  maps[data.key] = map;
  return h;
}

export default function (component) {
  const { data, parentElement, setTriggerValue, setStateValue } = component;
  if (!data || !data.state) { return; }
  // a base this page already holds (sent again for another map of the page) keeps the copy here: it
  // may carry facility points the server sent once for it
  if (data.base && !bases[data.baseKey]) { bases[data.baseKey] = data.base; }
  const base = bases[data.baseKey];
  if (!base) {  // a new browser tab on an old session: ask for the geometry again
    setStateValue('need', data.baseKey);
    return;
  }
  if (data.facilityPoints) {  // into the base's own layers, which the renderer reads (and a rebuild reuses)
    (base.info.facilities || []).forEach((d) => Object.assign(d, data.facilityPoints[d.kind] || {}));
  }
  const holder = parentElement.querySelector('.geoapp-live');
  let h = holder && holder.__geoapp;
  if (!h || h.baseKey !== data.baseKey) {
    if (h) { GeoAppLive.detach(h); h.map.remove(); }
    h = build(parentElement, data, base);
  }
  h.onClick = (code) => setTriggerValue('clicked', code);
  GeoAppLive.apply(h, data.state);
  GeoAppLive.showFacilities(h, data.facilities || []);
  if (data.facilityPoints && h.facilities.redraw) { h.facilities.redraw(); }  // points of a kind already on
  // a kind shown whose points never arrived (the run that carried them was cut short by the next one):
  // ask for them again, once per page
  const layers = base.info.facilities || [];
  const missing = (data.facilities || []).filter((k) => layers.some((d) => d.kind === k && !d.lat));
  const ask = data.baseKey + '|' + missing.join(',');
  if (missing.length && !asked[ask]) {
    asked[ask] = true;
    setStateValue('needpoints', ask);
  }
  return () => {
    // Streamlit calls this when the element goes away (another page); a map whose element is
    // still in the page is kept for the next state
    setTimeout(() => {
      const el = h.map.getContainer();
      if (!el.isConnected) { GeoAppLive.detach(h); h.map.remove(); }
    }, 0);
  };
}
