// The video pipeline: narrated how-to videos of the dashboard, rendered from YAML specs with
// chromium, a local voice and ffmpeg (docs/videos/specs/README.md).
export { LOUDNESS } from './assemble.ts';
export { type CheckInput, type CheckName, type CheckResult, checkVideo, LIMITS } from './checks.ts';
export { registerDocs, videosCommand } from './cli.ts';
export { Ffmpeg } from './ffmpeg.ts';
export { type Install, startTemporaryInstall, type TemporaryInstall } from './install.ts';
export { readmeText, writeReadme } from './readme.ts';
export { findToolset, type Progress, type RenderedSection, type RenderOptions, renderSection, type Toolset } from './render.ts';
export { captureSteps, type Captured } from './screens.ts';
export { type Action, loadSpec, loadSpecs, parseSpec, SPEC_SCHEMA, type Step, VIDEO_SIZE, type VideoSpec, withTenant } from './spec.ts';
export { buildTimeline, DEFAULT_TIMING, pointerAt, pointerExpr, type Timeline, type Timing, webVtt, parseVtt } from './timeline.ts';
export { findChromium, findFfmpeg } from './tools.ts';
export { findVoice, type VoiceEngine } from './voice.ts';
export { renderVideos, type VideosOptions, type VideosResult } from './videos.ts';
