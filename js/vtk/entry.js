// The OpenGL pieces the 3D view draws with (the view-node overrides register themselves).
import 'vtk.js/Sources/Rendering/OpenGL/Camera';
import 'vtk.js/Sources/Rendering/OpenGL/Renderer';
import 'vtk.js/Sources/Rendering/OpenGL/Actor';
import 'vtk.js/Sources/Rendering/OpenGL/PolyDataMapper';
import 'vtk.js/Sources/Rendering/OpenGL/Texture';
import vtkDataArray from 'vtk.js/Sources/Common/Core/DataArray';
import vtkImageHelper from 'vtk.js/Sources/Common/Core/ImageHelper';
import vtkDataSet from 'vtk.js/Sources/Common/DataModel/DataSet';
import vtkPolyData from 'vtk.js/Sources/Common/DataModel/PolyData';
import vtkCubeSource from 'vtk.js/Sources/Filters/Sources/CubeSource';
import vtkTubeFilter from 'vtk.js/Sources/Filters/General/TubeFilter';
import vtkOrientationMarkerWidget from 'vtk.js/Sources/Interaction/Widgets/OrientationMarkerWidget';
import vtkActor from 'vtk.js/Sources/Rendering/Core/Actor';
import vtkMapper from 'vtk.js/Sources/Rendering/Core/Mapper';
import vtkTexture from 'vtk.js/Sources/Rendering/Core/Texture';
import vtkGenericRenderWindow from 'vtk.js/Sources/Rendering/Misc/GenericRenderWindow';

window.vtk = {
  Common: { Core: { vtkDataArray, vtkImageHelper }, DataModel: { vtkDataSet, vtkPolyData } },
  Filters: { General: { vtkTubeFilter }, Sources: { vtkCubeSource } },
  Interaction: { Widgets: { vtkOrientationMarkerWidget } },
  Rendering: { Core: { vtkActor, vtkMapper, vtkTexture }, Misc: { vtkGenericRenderWindow } },
};
