/** The way out of the lake: the lambda view (lake below the watermark, speed above), the market-data service, bar SQL, the lake browser and vendor bars. */
export * from './bar-sql.js';
export * from './lake-browser.js';
export * from './lambda-view.js';
export * from './market-data.js';
export * from './vendor-bars-log.js';
