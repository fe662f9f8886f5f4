// uPlot and its stylesheet, loaded only when a page draws a chart (the overview draws none).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export default uPlot;
